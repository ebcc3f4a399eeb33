package dev.vigil.daemon.notify;

/**
 * What the {@link NotifyDispatcher} has done since it was created.
 *
 * @param scriptsRun       notify scripts started (or attempted)
 * @param scriptsFailed    runs that exited non-zero or could not be started
 * @param scriptsTimedOut  runs killed at their timeout
 * @param fifoLinesWritten lines written whole to a FIFO
 * @param fifoLinesDropped lines not written: FIFO unusable, or its buffer full because nobody reads
 */
public record NotifyCounters(long scriptsRun, long scriptsFailed, long scriptsTimedOut, long fifoLinesWritten,
                             long fifoLinesDropped) {
}
