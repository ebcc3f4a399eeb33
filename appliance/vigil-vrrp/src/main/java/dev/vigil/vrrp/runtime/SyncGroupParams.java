package dev.vigil.vrrp.runtime;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;

/**
 * A VRRP sync group (keepalived {@code vrrp_sync_group}): instances that change state together.
 * The group is MASTER only when every member is; a member that leaves MASTER for BACKUP takes the
 * others with it; a member in FAULT holds every member in FAULT; a member whose master down timer
 * runs out goes MASTER only when every other member is MASTER or has run out too.
 *
 * @param name    group name
 * @param members instance names, at least one, no duplicates
 */
public record SyncGroupParams(String name, List<String> members) {
    public SyncGroupParams {
        Objects.requireNonNull(name, "name");
        members = List.copyOf(Objects.requireNonNull(members, "members"));
        if (members.isEmpty()) {
            throw new IllegalArgumentException("sync group " + name + ": no members (expected: at least one)");
        }
        if (new LinkedHashSet<>(members).size() != members.size()) {
            throw new IllegalArgumentException("sync group " + name + ": duplicate member in " + members);
        }
    }

    /** A group of {@code members}. */
    public static SyncGroupParams of(String name, String... members) {
        return new SyncGroupParams(name, List.of(members));
    }
}
