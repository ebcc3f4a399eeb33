package dev.vigil.vrrp.fsm;

/** The timers an instance runs. At most one of each kind is armed at a time. */
public enum TimerKind {
    /** RFC 5798 §6.2 Master_Down_Timer (BACKUP). */
    MASTER_DOWN,
    /** RFC 5798 §6.2 Adver_Timer (MASTER). */
    ADVERT,
    /** Second GARP/NA burst, {@code garp_master_delay} after becoming MASTER. */
    GARP_DELAY,
    /** Periodic GARP/NA while MASTER, every {@code garp_master_refresh}. */
    GARP_REFRESH
}
