package dev.vigil.dsl;

/**
 * A VRRP instance as a policy sees it.
 *
 * @param name          the {@code vrrp_instance} name
 * @param state         {@code INIT}, {@code BACKUP}, {@code MASTER} or {@code FAULT}
 * @param basePriority  the configured priority
 * @param priority      the effective priority (trackers and policies applied)
 * @param group         the sync group it belongs to, or {@code null}
 */
public record InstanceView(String name, String state, int basePriority, int priority, String group) {

    public boolean isMaster() {
        return "MASTER".equals(state);
    }

    public boolean isBackup() {
        return "BACKUP".equals(state);
    }

    public boolean isFault() {
        return "FAULT".equals(state);
    }
}
