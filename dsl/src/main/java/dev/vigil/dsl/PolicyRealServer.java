package dev.vigil.dsl;

/** A real server of a virtual server as a handler reads and acts on it: {@code service(..).realServer('10.9.0.11:80')}. */
public final class PolicyRealServer {

    private final PolicyRun run;
    private final ServiceView service;
    private final RealServerView view;

    PolicyRealServer(PolicyRun run, ServiceView service, RealServerView view) {
        this.run = run;
        this.service = service;
        this.view = view;
    }

    /** {@code 10.9.0.11:80} ({@link RealServerView#key()}). */
    public String getName() {
        return view.key();
    }

    public String getAddress() {
        return view.address();
    }

    public int getPort() {
        return view.port();
    }

    public boolean isHealthy() {
        return view.healthy();
    }

    /** Its current weight (0 when drained). */
    public int getWeight() {
        return view.weight();
    }

    public int getConfiguredWeight() {
        return view.configuredWeight();
    }

    /** Weight 0: existing connections go on, new ones go elsewhere. */
    public void drain() {
        run.act(new PolicyAction.Weight(service.key(), view.key(), 0));
    }

    /** Sets its weight to {@code weight} (0..65535, as ipvsadm takes it). */
    public void weight(int weight) {
        if (weight < 0 || weight > 65535) {
            throw new PolicyRuntimeException("weight: " + weight + " (expected: 0..65535)");
        }
        run.act(new PolicyAction.Weight(service.key(), view.key(), weight));
    }

    /** Returns it to its configured weight. */
    public void restoreWeight() {
        run.act(new PolicyAction.Weight(service.key(), view.key(), null));
    }

    @Override
    public String toString() {
        return view.key();
    }
}
