/**
 * The daemon's events and the notifiers that deliver them: the {@link dev.vigil.daemon.event.EventBus}
 * every emission point publishes on, the {@link dev.vigil.daemon.event.NotifierHost} that runs one
 * delivery lane per configured notifier, the checks of {@code vigil_notifier} blocks
 * ({@link dev.vigil.daemon.event.NotifierValidation}), keepalived's mail settings as a notifier
 * ({@link dev.vigil.daemon.event.MailAlerts}) and the built-in {@code script} notifier.
 */
package dev.vigil.daemon.event;
