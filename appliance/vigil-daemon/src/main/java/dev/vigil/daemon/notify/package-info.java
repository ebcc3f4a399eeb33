/**
 * keepalived-compatible notifications of VRRP state changes: {@code notify*} scripts, ordered per instance,
 * and the {@code notify_fifo} / {@code vrrp_notify_fifo} line protocol
 * ({@link dev.vigil.daemon.notify.NotifyDispatcher}).
 */
package dev.vigil.daemon.notify;
