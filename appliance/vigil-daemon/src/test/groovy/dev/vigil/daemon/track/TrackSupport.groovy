package dev.vigil.daemon.track

import dev.vigil.config.ConfigLoader
import dev.vigil.config.LoadOptions
import dev.vigil.config.LoadResult
import dev.vigil.config.model.KeepalivedConfig
import dev.vigil.daemon.Log

import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.attribute.PosixFilePermissions

/** Shared helpers for the tracker and notify specs: configs, scripts, a recording sink and log. */
class TrackSupport {

    /** Loads {@code text} as keepalived.conf from {@code dir}; fails on any config error. */
    static KeepalivedConfig config(Path dir, String text) {
        Path f = dir.resolve("keepalived.conf")
        Files.writeString(f, text)
        LoadResult r = ConfigLoader.load(f, LoadOptions.defaults().withConfigId("spec"))
        assert !r.hasErrors(): r.errors().toString()
        return r.config()
    }

    /** A minimal instance block with {@code body} inside. */
    static String instance(String name, int vrid, String body) {
        """
vrrp_instance $name {
    interface eth0
    virtual_router_id $vrid
    priority 100
    virtual_ipaddress { 10.9.$vrid.1/24 }
$body
}
"""
    }

    /** Writes an executable shell script. */
    static Path script(Path dir, String name, String body) {
        Path p = dir.resolve(name)
        Files.writeString(p, "#!/bin/sh\n" + body + "\n")
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"))
        return p
    }

    /** Whether pid names a live (non-zombie) process. */
    static boolean alive(long pid) {
        Path stat = Path.of("/proc/$pid/stat")
        if (!Files.exists(stat)) {
            return false
        }
        try {
            String s = Files.readString(stat)
            return !(s.substring(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3) in ['Z', 'X'])
        } catch (IOException ignored) {
            return false
        }
    }

    static boolean root() {
        return new com.sun.security.auth.module.UnixSystem().uid == 0
    }

    /**
     * Whether a feature needing root can run; says loudly when it cannot, and fails instead when
     * {@code vigil.requireNetns} demands that every privileged spec runs (as bin/test does as root).
     */
    static boolean rootOrSkip(String what) {
        if (root()) {
            return true
        }
        System.err.println("*** SKIPPING ${what}: needs root ***")
        if (Boolean.getBoolean('vigil.requireNetns')) {
            throw new IllegalStateException("vigil.requireNetns is set but ${what} needs root")
        }
        false
    }

    /** Creates a system user for the spec; the caller deletes it with {@link #deleteUser}. */
    static void createUser(String name) {
        run("userdel", name)
        assert run("useradd", "-r", "-M", "-s", "/usr/sbin/nologin", name) == 0
    }

    static void deleteUser(String name) {
        run("userdel", name)
    }

    static int run(String... argv) {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start()
        p.inputStream.readAllBytes()
        return p.waitFor()
    }
}

/** Records every push, in order. */
class RecordingSink implements TrackingSink {
    final List<List> calls = Collections.synchronizedList([])

    @Override
    void setTracking(String instance, int priorityDelta, Set<String> faults) {
        calls << [instance, priorityDelta, new TreeSet(faults)]
    }

    List<List> of(String instance) {
        synchronized (calls) {
            calls.findAll { it[0] == instance }.collect { [it[1], it[2]] }
        }
    }

    List last(String instance) {
        def all = of(instance)
        all ? all.last() : null
    }
}

/** Records every log line as {@code LEVEL subject: message}. */
class RecordingLog implements EventLog {
    final List<String> lines = Collections.synchronizedList([])

    @Override
    void log(Log.Level level, String subject, String message) {
        lines << "$level $subject: $message".toString()
    }

    List<String> matching(String part) {
        synchronized (lines) {
            lines.findAll { it.contains(part) }
        }
    }
}
