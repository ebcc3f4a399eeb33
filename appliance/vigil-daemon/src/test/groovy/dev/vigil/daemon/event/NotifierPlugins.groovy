package dev.vigil.daemon.event

import dev.vigil.daemon.plugin.TestPlugins

import java.nio.file.Path

/**
 * A test notifier plugin, zipped and loaded like any other: type {@code record} (or the types
 * given) appends one line per delivered event to the block's {@code file}, as
 * {@code NAME TYPE NODE TIME k=v,k=v}. The block's {@code behaviour} makes it misbehave:
 * {@code throw} (every deliver throws), {@code hang} (never returns), {@code slow MS} (sleeps that
 * long first). {@code validate} refuses a block without {@code file}, at the block, and an
 * unknown keyword, at its word. {@code close} appends {@code NAME closed}.
 */
class NotifierPlugins {

    static Path zip(Path pluginsDir, String id, List<String> types = ['record']) {
        Map<String, String> sources = [:]
        sources.put('t.' + id + '.Recorder', recorder('t.' + id, types))
        TestPlugins.zip(pluginsDir, id, sources)
    }

    static String recorder(String pkg, List<String> types) {
        """\
        package ${pkg};

        import dev.vigil.api.*;
        import java.nio.charset.StandardCharsets;
        import java.nio.file.*;
        import java.util.*;

        @org.pf4j.Extension
        public class Recorder implements Notifier {
            public Set<String> types() {
                return new LinkedHashSet<>(List.of(${types.collect { '"' + it + '"' }.join(', ')}));
            }

            public List<ConfigProblem> validate(ConfigBlock block) {
                List<ConfigProblem> out = new ArrayList<>();
                if (block.line("file").isEmpty()) {
                    out.add(ConfigProblem.error(block.location(), "a record notifier needs a file"));
                }
                for (ConfigLine l : block.lines()) {
                    if (!Set.of("type", "events", "timeout", "file", "behaviour").contains(l.keyword())) {
                        out.add(ConfigProblem.error(l.location(), "record does not know \\"" + l.keyword() + "\\""));
                    }
                }
                return out;
            }

            public Sink create(NotifierContext ctx) {
                Path file = Path.of(ctx.config().line("file").get().arguments().get(0));
                List<String> behaviour = ctx.config().line("behaviour").map(ConfigLine::arguments).orElse(List.of("ok"));
                return new Sink() {
                    public void deliver(NotifierEvent e) throws Exception {
                        switch (behaviour.get(0)) {
                            case "throw" -> throw new IllegalStateException("refused " + e.type());
                            case "hang" -> {
                                while (true) {
                                    try {
                                        Thread.sleep(60_000);
                                    } catch (InterruptedException ignored) {
                                        // a plugin that ignores interrupts: only abandoning it helps
                                    }
                                }
                            }
                            case "slow" -> Thread.sleep(Long.parseLong(behaviour.get(1)));
                            default -> { }
                        }
                        StringBuilder d = new StringBuilder();
                        e.details().forEach((k, v) -> d.append(d.length() == 0 ? "" : ",").append(k).append('=').append(v));
                        write(ctx.name() + " " + e.type() + " " + e.node() + " " + e.time() + " " + d + "\\n");
                    }

                    public void close() throws Exception {
                        write(ctx.name() + " closed\\n");
                    }

                    private void write(String line) throws Exception {
                        Files.writeString(file, line, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                    }
                };
            }
        }
        """.stripIndent()
    }
}
