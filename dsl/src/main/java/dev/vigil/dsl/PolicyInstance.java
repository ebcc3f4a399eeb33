package dev.vigil.dsl;

/**
 * A VRRP instance as a handler reads and acts on it: {@code instance('VI_1')}. Reads come from the
 * world at the time of the run; acts append a {@link PolicyAction}.
 */
public final class PolicyInstance {

    private final PolicyRun run;
    private final InstanceView view;

    PolicyInstance(PolicyRun run, InstanceView view) {
        this.run = run;
        this.view = view;
    }

    public String getName() {
        return view.name();
    }

    /** {@code INIT}, {@code BACKUP}, {@code MASTER} or {@code FAULT}. */
    public String getState() {
        return view.state();
    }

    /** The effective priority (trackers and policies applied). */
    public int getPriority() {
        return view.priority();
    }

    /** The configured priority. */
    public int getBasePriority() {
        return view.basePriority();
    }

    /** The sync group, or {@code null}. */
    public String getGroup() {
        return view.group();
    }

    public boolean isMaster() {
        return view.isMaster();
    }

    public boolean isBackup() {
        return view.isBackup();
    }

    public boolean isFault() {
        return view.isFault();
    }

    /** Sets this policy's offset to the priority to {@code -amount} (not cumulative; see {@link PolicyAction.Priority}). */
    public void lowerPriority(int amount) {
        run.act(new PolicyAction.Priority(view.name(), -checkAmount("lowerPriority", amount)));
    }

    /** Sets this policy's offset to the priority to {@code +amount}. */
    public void raisePriority(int amount) {
        run.act(new PolicyAction.Priority(view.name(), checkAmount("raisePriority", amount)));
    }

    /** Sets this policy's offset to the priority back to 0. */
    public void resetPriority() {
        run.act(new PolicyAction.Priority(view.name(), 0));
    }

    /** Gives up mastership now (priority 0 advert, then BACKUP). */
    public void handOver() {
        run.act(new PolicyAction.HandOver(view.name()));
    }

    private static int checkAmount(String word, int amount) {
        if (amount < 1 || amount > 253) {
            throw new PolicyRuntimeException(word + ": " + amount + " (expected: 1..253)");
        }
        return amount;
    }

    @Override
    public String toString() {
        return view.name();
    }
}
