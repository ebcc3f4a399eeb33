package dev.vigil.daemon.event;

/**
 * What keepalived's own notifications of a forwarder event need besides the {@link
 * dev.vigil.api.NotifierEvent}: the configured {@code notify_up}/{@code notify_down}/{@code
 * quorum_up}/{@code quorum_down} command and the line for {@code notify_fifo} and {@code
 * lvs_notify_fifo}. It travels on the bus with its event, for the {@code NotifyDispatcher} alone.
 *
 * @param subject  the real or virtual server, for the script lane and the log
 * @param event    {@code UP}, {@code DOWN}, {@code QUORUM_UP} or {@code QUORUM_DOWN}
 * @param command  the configured command line, or {@code null}
 * @param fifoLine the FIFO line, newline included, or {@code null}
 * @param stopping whether the daemon is shutting down (keepalived gives such scripts one second)
 */
public record LvsNotice(String subject, String event, String command, String fifoLine, boolean stopping) {
}
