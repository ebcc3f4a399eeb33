package dev.vigil.dsl;

import groovy.lang.Closure;

import java.time.Duration;

/** A handler run on a timer, as {@code every 10.seconds { ... }} declares it. */
public final class PolicySchedule {

    final Duration period;
    final Closure<?> body;

    PolicySchedule(Duration period, Closure<?> body) {
        if (period.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new PolicyRuntimeException("every: " + period.toSeconds() + " seconds (expected: >= 1 second)");
        }
        if (body == null) {
            throw new PolicyRuntimeException("every needs a handler: every 10.seconds { ... }");
        }
        this.period = period;
        this.body = body;
    }

    /** {@code every 10s}, {@code every 5m}: the trigger of this schedule's outcomes. */
    String label() {
        long s = period.toSeconds();
        return "every " + (s % 60 == 0 ? s / 60 + "m" : s + "s");
    }

    @Override
    public String toString() {
        return label();
    }
}
