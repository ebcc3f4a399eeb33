package dev.vigil.api;

import org.pf4j.ExtensionPoint;

import java.util.List;
import java.util.Set;

/**
 * A health checker: the extension that owns one or more checker keywords of keepalived.conf
 * ({@code TCP_CHECK}, {@code HTTP_GET}, or a third party's own {@code REDIS_CHECK}) and makes a
 * {@link Probe} for every block that uses one.
 *
 * <p>A plugin declares it with PF4J's {@code @Extension} on a public class with a public no-argument
 * constructor; the host creates one instance per plugin. Two plugins claiming the same keyword are
 * a start-up error, and a configuration that uses a keyword no plugin claims is refused with the
 * installed keywords named.
 *
 * <p><b>Threading and blocking.</b> {@link #keywords()} and {@link #validate} may be called from any
 * host thread, also concurrently, and also by {@code vigil check} where nothing runs: they must be
 * quick, must not do I/O and must not keep state. {@link #create} is called once per target on a
 * host thread that is not an event loop, when the daemon starts or a reload adds the checker; it
 * may prepare (parse its block, build a request) but must not block on the network.
 *
 * <p>Whatever a checker throws is contained: the target's probe fails with
 * {@link CheckResult.Status#PLUGINERR} and the plugin's error counter goes up; the daemon's VRRP
 * engine and forwarder never see it.
 */
public interface HealthChecker extends ExtensionPoint {

    /** The block keywords this checker handles, e.g. {@code TCP_CHECK}; by convention upper case. */
    Set<String> keywords();

    /**
     * Checks a block at configuration time ({@code vigil check}, start, reload) beyond what the
     * host checks itself: the host already reads the options shared by all checkers
     * ({@code connect_timeout}, {@code retry}, {@code delay_loop}, {@code connect_ip}, ...); a
     * plugin complains about its own keywords, unknown ones included.
     *
     * @return the problems, each at the location of the word it is about; empty when the block is fine
     */
    default List<ConfigProblem> validate(ConfigBlock block) {
        return List.of();
    }

    /**
     * Makes the probe of one target. Called only for a block {@link #validate} accepted; a throw
     * fails every probe of the target with {@link CheckResult.Status#PLUGINERR} and the reason.
     */
    Probe create(CheckContext context) throws Exception;
}
