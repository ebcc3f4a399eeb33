package dev.vigil.dsl;

import groovy.lang.Closure;

import java.time.Duration;

/**
 * The Groovy extension methods that give policies {@code every 10.seconds { ... }} and durations
 * such as {@code 5.minutes} (registered in {@code META-INF/groovy/org.codehaus.groovy.runtime.ExtensionModule}).
 */
public final class PolicyDurations {

    private PolicyDurations() {
    }

    public static Duration getSeconds(Integer self) {
        return Duration.ofSeconds(self);
    }

    public static Duration getSecond(Integer self) {
        return Duration.ofSeconds(self);
    }

    public static Duration getMinutes(Integer self) {
        return Duration.ofMinutes(self);
    }

    public static Duration getMinute(Integer self) {
        return Duration.ofMinutes(self);
    }

    /** {@code every 10.seconds { ... }}. */
    public static PolicySchedule seconds(Integer self, Closure<?> body) {
        return new PolicySchedule(Duration.ofSeconds(self), body);
    }

    /** {@code every 1.second { ... }}. */
    public static PolicySchedule second(Integer self, Closure<?> body) {
        return new PolicySchedule(Duration.ofSeconds(self), body);
    }

    /** {@code every 5.minutes { ... }}. */
    public static PolicySchedule minutes(Integer self, Closure<?> body) {
        return new PolicySchedule(Duration.ofMinutes(self), body);
    }

    /** {@code every 1.minute { ... }}. */
    public static PolicySchedule minute(Integer self, Closure<?> body) {
        return new PolicySchedule(Duration.ofMinutes(self), body);
    }
}
