package dev.vigil.dsl;

import java.util.ArrayList;
import java.util.List;

/** A virtual server as a handler reads it: {@code service('10.9.0.50:80')}. */
public final class PolicyService {

    private final PolicyRun run;
    private final ServiceView view;

    PolicyService(PolicyRun run, ServiceView view) {
        this.run = run;
        this.view = view;
    }

    /** {@code 10.9.0.50:80/tcp}, as {@link ServiceView#key()}. */
    public String getName() {
        return view.key();
    }

    /** How many of its real servers are healthy. */
    public int healthyCount() {
        return view.healthyCount();
    }

    /** Whether its quorum is met (always true without a quorum). */
    public boolean isQuorumUp() {
        return view.quorumUp();
    }

    /** Its real servers, in configuration order. */
    public List<PolicyRealServer> getRealServers() {
        List<PolicyRealServer> out = new ArrayList<>();
        for (RealServerView r : view.realServers()) {
            out.add(new PolicyRealServer(run, view, r));
        }
        return out;
    }

    /** The real server {@code query} names ({@code 10.9.0.11:80}, or a bare address); an error when none does. */
    public PolicyRealServer realServer(String query) {
        RealServerView r = query == null ? null : view.realServer(query);
        if (r == null) {
            throw new PolicyRuntimeException("service " + view.key() + " has no real server '" + query + "'");
        }
        return new PolicyRealServer(run, view, r);
    }

    @Override
    public String toString() {
        return view.key();
    }
}
