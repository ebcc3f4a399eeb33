package dev.vigil.vrrp.runtime;

import dev.vigil.vrrp.fsm.VrrpState;

import java.net.InetAddress;

/**
 * A snapshot of one instance.
 *
 * @param name              instance name
 * @param state             current state
 * @param basePriority      configured priority
 * @param effectivePriority priority after tracker adjustments
 * @param masterAddress     our address when MASTER, the master's when BACKUP, else {@code null}
 * @param masterPriority    the master's last advertised priority (ours when MASTER), 0 when unknown
 * @param sourceAddress     the address our adverts carry, {@code null} before the channel opened
 */
public record InstanceStatus(String name, VrrpState state, int basePriority, int effectivePriority,
                             InetAddress masterAddress, int masterPriority, InetAddress sourceAddress) {
}
