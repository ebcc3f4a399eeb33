package dev.vigil.plugin.webhook

import dev.vigil.api.ConfigBlock
import dev.vigil.api.NotifierContext

import java.text.MessageFormat
import java.time.Clock
import java.time.Duration
import java.util.concurrent.CopyOnWriteArrayList

/** A notifier context as the host makes one, its logger recording every line (level, then text) in {@link #log}. */
class TestContext implements NotifierContext {

    final ConfigBlock block
    final Duration timeout
    final List<String> log = new CopyOnWriteArrayList<>()

    TestContext(ConfigBlock block, Duration timeout = Duration.ofSeconds(10)) {
        this.block = block
        this.timeout = timeout
    }

    String name() { 'ops-hook' }

    ConfigBlock config() { block }

    String node() { 'lb-1' }

    Duration deliveryTimeout() { timeout }

    Clock clock() { Clock.systemUTC() }

    System.Logger logger() {
        List<String> lines = log
        new System.Logger() {
            String getName() { 'ops-hook' }

            boolean isLoggable(System.Logger.Level level) { true }

            void log(System.Logger.Level level, ResourceBundle bundle, String msg, Throwable thrown) {
                lines << "${level} ${msg}".toString()
            }

            void log(System.Logger.Level level, ResourceBundle bundle, String format, Object... params) {
                lines << "${level} ${params ? MessageFormat.format(format, params) : format}".toString()
            }
        }
    }
}
