package dev.vigil.vrrp.fsm;

/** Instance states (RFC 5798 §6.4; FAULT is keepalived's, for a failed interface or tracker). */
public enum VrrpState {
    /** RFC 5798 §6.4.1: not started, or shut down. */
    INIT,
    /** RFC 5798 §6.4.2: monitoring the master. */
    BACKUP,
    /** RFC 5798 §6.4.3: forwarding for the virtual addresses. */
    MASTER,
    /** Cannot serve: neither sends nor listens until every fault clears. */
    FAULT
}
