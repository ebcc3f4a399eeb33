package dev.vigil.daemon.plugin

import javax.tools.DiagnosticCollector
import javax.tools.JavaFileObject
import javax.tools.ToolProvider
import java.nio.file.Files
import java.nio.file.Path
import java.util.zip.ZipEntry
import java.util.zip.ZipOutputStream

/**
 * Builds real PF4J plugin zips for specs: Java sources compiled here against the API (javac with
 * PF4J's annotation processor, so the zip has its META-INF/extensions.idx), laid out as the
 * plugin build lays them out (plugin.properties, classes/), zipped into a plugins directory. The
 * classes never touch the test class path: the host loads them through its own class loader, as
 * it loads any third party's plugin.
 */
class TestPlugins {

    /**
     * Compiles {@code sources} (class name -> Java text) and zips them as plugin {@code id} into
     * {@code pluginsDir} as ID-VERSION.zip, version 1.2.3 unless {@code properties} (added to
     * plugin.properties, over its defaults) say otherwise; returns the zip.
     */
    static Path zip(Path pluginsDir, String id, Map<String, String> sources, Map<String, String> properties = [:]) {
        Path work = Files.createTempDirectory("plugin-${id}-")
        Path src = work.resolve('src')
        Path classes = work.resolve('classes')
        Files.createDirectories(classes)
        List<File> files = sources.collect { name, text ->
            Path f = src.resolve(name.replace('.', '/') + '.java')
            Files.createDirectories(f.parent)
            Files.writeString(f, text)
            f.toFile()
        }
        def javac = ToolProvider.systemJavaCompiler
        def diagnostics = new DiagnosticCollector<JavaFileObject>()
        javac.getStandardFileManager(diagnostics, null, null).withCloseable { fm ->
            String cp = System.getProperty('java.class.path')
            def ok = javac.getTask(null, fm, diagnostics,
                    ['-d', classes.toString(), '-cp', cp, '-processorpath', cp,
                     '-processor', 'org.pf4j.processor.ExtensionAnnotationProcessor', '--release', '21', '-Xlint:none'],
                    null, fm.getJavaFileObjectsFromFiles(files)).call()
            assert ok: diagnostics.diagnostics.collect { it.toString() }.join('\n')
        }
        assert Files.exists(classes.resolve('META-INF/extensions.idx')): 'the annotation processor wrote no extensions.idx'
        Map<String, String> props = ['plugin.id': id, 'plugin.version': '1.2.3', 'plugin.provider': 'Test',
                                     'plugin.class': 'org.pf4j.Plugin'] + properties
        Files.createDirectories(pluginsDir)
        Path zip = pluginsDir.resolve("${id}-${props['plugin.version']}.zip")
        new ZipOutputStream(Files.newOutputStream(zip)).withCloseable { out ->
            out.putNextEntry(new ZipEntry('plugin.properties'))
            out.write(props.collect { k, v -> "${k}=${v}" }.join('\n').bytes)
            out.closeEntry()
            Files.walk(classes).withCloseable { s ->
                s.filter { Files.isRegularFile(it) }.forEach { f ->
                    out.putNextEntry(new ZipEntry('classes/' + classes.relativize(f).toString()))
                    out.write(Files.readAllBytes(f))
                    out.closeEntry()
                }
            }
        }
        zip
    }

    /**
     * A checker extension owning {@code keywords}, whose probe body is {@code run} (Java statements
     * returning a {@code CompletionStage<CheckResult>}; {@code ctx} is the context).
     */
    static String checker(String pkg, String name, List<String> keywords, String run, String create = null,
                          String validate = null) {
        """\
        package ${pkg};

        import dev.vigil.api.*;
        import java.util.*;
        import java.util.concurrent.*;

        @org.pf4j.Extension
        public class ${name} implements HealthChecker {
            public Set<String> keywords() {
                return new LinkedHashSet<>(List.of(${keywords.collect { '"' + it + '"' }.join(', ')}));
            }

            public List<ConfigProblem> validate(ConfigBlock block) {
                ${validate ?: 'return List.of();'}
            }

            public Probe create(CheckContext ctx) throws Exception {
                ${create ?: ''}
                return () -> { ${run} };
            }
        }
        """.stripIndent()
    }

    /** A checker whose probes always pass. */
    static String passing(String pkg, String name, String keyword) {
        checker(pkg, name, [keyword], 'return CompletableFuture.completedFuture(CheckResult.of(CheckResult.Status.L4OK, "fine"));')
    }
}
