package dev.vigil.dsl;

/** A tracker as a handler reads and acts on it: {@code tracker('chk_nginx')}. */
public final class PolicyTracker {

    private final PolicyRun run;
    private final TrackerView view;

    PolicyTracker(PolicyRun run, TrackerView view) {
        this.run = run;
        this.view = view;
    }

    public String getName() {
        return view.name();
    }

    /** {@code script}, {@code interface}, {@code file}, {@code process}, {@code bfd} or {@code policy}. */
    public String getKind() {
        return view.kind();
    }

    /** {@code UP}, {@code DOWN} or {@code INIT}. */
    public String getState() {
        return view.state();
    }

    public boolean isUp() {
        return view.isUp();
    }

    /** Holds it {@code DOWN} whatever its own results say, giving {@code why} as the reason. */
    public void markDown(String why) {
        run.act(new PolicyAction.Tracker(view.name(), "DOWN", why));
    }

    /** Holds it {@code DOWN} whatever its own results say. */
    public void markDown() {
        run.act(new PolicyAction.Tracker(view.name(), "DOWN", null));
    }

    /** Holds it {@code UP} whatever its own results say. */
    public void markUp() {
        run.act(new PolicyAction.Tracker(view.name(), "UP", null));
    }

    /** Returns it to its own results. */
    public void clear() {
        run.act(new PolicyAction.Tracker(view.name(), null, null));
    }

    @Override
    public String toString() {
        return view.name();
    }
}
