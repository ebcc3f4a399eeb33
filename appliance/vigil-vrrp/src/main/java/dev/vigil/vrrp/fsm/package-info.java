/**
 * The VRRP state machine of one instance ({@link dev.vigil.vrrp.fsm.VrrpStateMachine}), driven by
 * {@link dev.vigil.vrrp.fsm.VrrpEvent}s and a caller's clock, answering with
 * {@link dev.vigil.vrrp.fsm.VrrpAction}s. Pure: no I/O, no threads, no clock of its own.
 */
package dev.vigil.vrrp.fsm;
