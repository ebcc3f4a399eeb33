package dev.vigil.api;

import org.pf4j.ExtensionPoint;

import java.util.List;
import java.util.Set;

/**
 * Delivers events (VRRP transitions, real-server changes, quorum, trackers, policy actions, the
 * daemon's life cycle) to operators: mail, a webhook, a chat room, a script.
 *
 * <p>A plugin declares it with PF4J's {@code @Extension}; the host creates one instance per plugin.
 * An operator configures notifiers in {@code vigil_notifier NAME { type T ... }} blocks; the
 * {@code type} selects the extension whose {@link #types()} names it, and two plugins claiming one
 * type are a start-up error. The host makes one {@link Sink} per configured block.
 *
 * <p><b>Threading and blocking.</b> {@link #types()} and {@link #validate} may be called from any
 * host thread, also by {@code vigil check} where nothing runs: quick, no I/O, no state.
 * {@link #create} is called on a host thread when the daemon starts or a reload adds or changes
 * the block. The host calls {@link Sink#deliver} on a delivery thread of that sink alone, one
 * event at a time and in the order the events happened; the VRRP engine, the check engine and the
 * forwarder never wait for it. {@code deliver} may block on I/O (and may retry), but must bound
 * its waits by {@link NotifierContext#deliveryTimeout()}: past it (plus a grace) the host stops
 * waiting, counts a failure and goes on with the next event. A throw is a failed delivery, counted
 * and logged with the reason; it never reaches the daemon.
 */
public interface Notifier extends ExtensionPoint {

    /** The notifier types this extension implements, e.g. {@code webhook}; by convention lower case. */
    Set<String> types();

    /**
     * Checks a {@code vigil_notifier} block at configuration time beyond what the host checks
     * itself ({@code type}, {@code events}, {@code timeout}): a plugin complains about its own
     * keywords, unknown ones included.
     *
     * @return the problems, each at the location of the word it is about; empty when the block is fine
     */
    default List<ConfigProblem> validate(ConfigBlock block) {
        return List.of();
    }

    /** Makes the sink of one configured notifier. Called only for a block {@link #validate} accepted. */
    Sink create(NotifierContext context) throws Exception;

    /** One configured notifier: where its events go. */
    interface Sink extends AutoCloseable {

        /**
         * Delivers one event. Returning is success; a throw is a failed delivery (its message is
         * logged as the reason). Retries, if any, happen inside, within the delivery timeout.
         */
        void deliver(NotifierEvent event) throws Exception;

        /** Releases what the sink holds; called once, on a host thread, when the block goes away. */
        @Override
        default void close() throws Exception {
        }
    }
}
