package dev.vigil.vrrp.fsm;

import java.time.Duration;
import java.util.Objects;

/**
 * Gratuitous ARP / unsolicited NA settings of an instance (keepalived {@code garp_*} keywords).
 *
 * @param masterRepeat        announcements per VIP in each burst on becoming MASTER ({@code garp_master_repeat})
 * @param masterDelay         delay of the second burst; zero for none ({@code garp_master_delay})
 * @param masterRefresh       period of refresh announcements while MASTER; zero for none ({@code garp_master_refresh})
 * @param masterRefreshRepeat announcements per VIP in each refresh ({@code garp_master_refresh_repeat})
 * @param lowerPrioRepeat     announcements per VIP when a MASTER hears a lower priority; zero for none
 *                            ({@code garp_lower_prio_repeat})
 */
public record GarpSettings(int masterRepeat, Duration masterDelay, Duration masterRefresh, int masterRefreshRepeat,
                           int lowerPrioRepeat) {

    /** keepalived's defaults: 5 at once, 5 more after 5 s, no refresh, 5 on a lower priority advert. */
    public static final GarpSettings DEFAULTS = new GarpSettings(5, Duration.ofSeconds(5), Duration.ZERO, 1, 5);

    public GarpSettings {
        Objects.requireNonNull(masterDelay, "masterDelay");
        Objects.requireNonNull(masterRefresh, "masterRefresh");
        if (masterRepeat < 0) {
            throw new IllegalArgumentException("masterRepeat: " + masterRepeat + " (expected: >= 0)");
        }
        if (masterRefreshRepeat < 0) {
            throw new IllegalArgumentException("masterRefreshRepeat: " + masterRefreshRepeat + " (expected: >= 0)");
        }
        if (lowerPrioRepeat < 0) {
            throw new IllegalArgumentException("lowerPrioRepeat: " + lowerPrioRepeat + " (expected: >= 0)");
        }
        if (masterDelay.isNegative()) {
            throw new IllegalArgumentException("masterDelay: " + masterDelay + " (expected: >= 0)");
        }
        if (masterRefresh.isNegative()) {
            throw new IllegalArgumentException("masterRefresh: " + masterRefresh + " (expected: >= 0)");
        }
    }
}
