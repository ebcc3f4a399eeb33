package dev.vigil.plugin.webhook

import groovy.json.JsonSlurper

import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration
import java.util.concurrent.TimeUnit

/**
 * A real HTTP receiver: {@code receiver.py} (test resources) run by python3, on loopback or in a
 * network namespace, recording every POST it gets to a file that {@link #requests} reads back. It
 * checks the signature itself, with Python's hmac, so a spec asserts the receiver's verdict and
 * not one computed by the code under test.
 */
class Receiver implements Closeable {

    static final String PYTHON = '/usr/bin/python3'

    final Path record
    final Path out
    final int port
    final String address
    private final Process process

    /**
     * Starts the receiver and waits until it listens.
     *
     * @param dir     where its record and output go
     * @param options receiver.py's options: {@code secret}, {@code answers} ("503,204"), {@code hang} (true),
     *                {@code port} (0 for any), {@code bind} (127.0.0.1), {@code netns} (run it there)
     */
    Receiver(Path dir, Map options = [:]) {
        String tag = Long.toHexString(System.nanoTime())
        record = dir.resolve("requests-${tag}.jsonl")
        out = dir.resolve("receiver-${tag}.out")
        address = options.bind ?: '127.0.0.1'
        List<String> cmd = []
        if (options.netns) {
            cmd += ['ip', 'netns', 'exec', options.netns as String]
        }
        cmd += [PYTHON, script().toString(), '--bind', address, '--port', String.valueOf(options.port ?: 0),
                '--record', record.toString()]
        if (options.secret) {
            cmd += ['--secret', options.secret as String]
        }
        if (options.answers) {
            cmd += ['--answers', options.answers as String]
        }
        if (options.hang) {
            cmd << '--hang'
        }
        process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start()
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos()
        String listening = null
        while (listening == null) {
            assert process.alive || listening: "receiver.py exited: ${Files.readString(out)}"
            assert System.nanoTime() < deadline: "receiver.py did not listen within 10 s: ${Files.readString(out)}"
            listening = Files.readAllLines(out).find { it.startsWith('listening ') }
            if (listening == null) {
                Thread.sleep(20)
            }
        }
        port = listening.split(' ')[1] as int
    }

    static Path script() {
        Path.of(Receiver.getResource('/receiver.py').toURI())
    }

    /** {@code http://ADDRESS:PORT/PATH}. */
    String url(String path = '/hook') {
        "http://${address}:${port}${path}"
    }

    /** Every request recorded so far: path, headers (lower-case names), body, verified, status, at. */
    List<Map> requests() {
        Files.exists(record) ? Files.readAllLines(record).collect { new JsonSlurper().parseText(it) as Map } : []
    }

    @Override
    void close() {
        process.destroy()
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly()
            process.waitFor(5, TimeUnit.SECONDS)
        }
    }
}
