package dev.vigil.daemon.forward

import dev.vigil.config.ConfigLoader
import dev.vigil.config.LoadOptions
import dev.vigil.daemon.track.EventLog
import dev.vigil.kernel.forward.InMemoryForwarder

import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.TimeUnit

/**
 * A {@link ServiceManager} over an {@link InMemoryForwarder}, logging and notifying nothing, for
 * specs of what reads or changes the services: configured with one wrr virtual server,
 * 10.0.0.50:80, of two real servers (10.0.0.2:8080 weight 3, 10.0.0.3:8080 weight 1).
 */
final class MemoryServices {
    static final String CONFIG = '''
        virtual_server 10.0.0.50 80 {
            lb_algo wrr
            real_server 10.0.0.2 8080 { weight 3 }
            real_server 10.0.0.3 8080 { }
        }
        '''

    private MemoryServices() {
    }

    /** A quiet manager over {@code forwarder}, not configured yet. */
    static ServiceManager manager(InMemoryForwarder forwarder) {
        new ServiceManager({ new Backend('memory', forwarder, 'test', { null }, true) },
                { level, subject, message -> } as EventLog, { subject, event, command, line, stopping -> } as ServiceManager.Notifier)
    }

    /** Configures {@code manager} with {@link #CONFIG}, written to {@code dir}/k.conf, and waits for the apply. */
    static void configure(ServiceManager manager, Path dir) {
        Path f = dir.resolve('k.conf')
        Files.writeString(f, CONFIG)
        manager.configure(ConfigLoader.load(f, LoadOptions.defaults()).config()).get(10, TimeUnit.SECONDS)
    }
}
