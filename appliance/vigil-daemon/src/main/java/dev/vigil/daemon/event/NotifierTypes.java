package dev.vigil.daemon.event;

import dev.vigil.api.Notifier;
import dev.vigil.daemon.plugin.PluginHost;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The notifier types this daemon can run: the built-in ones ({@link ScriptNotifier}'s {@code script})
 * and those of the plugins' {@link Notifier} extensions. A type claimed by more than one (two
 * plugins, or a plugin and a built-in) is contested: none of them runs it, and a block using it is
 * refused with the claimants named, as for checker keywords.
 */
public final class NotifierTypes {

    /** The plugin id built-in notifiers are listed under. */
    public static final String BUILT_IN = "vigil";

    /** The extension implementing one type, and the plugin it comes from. */
    public record Provider(String type, String pluginId, Notifier extension) {
        /** The plugin's class loader, the context loader of every call into it. */
        public ClassLoader loader() {
            return extension.getClass().getClassLoader();
        }
    }

    private final Map<String, Provider> providers = new TreeMap<>();
    private final Map<String, List<String>> contested = new TreeMap<>();
    private final String where;

    private NotifierTypes(String where) {
        this.where = where;
    }

    /** The built-in notifiers and those of {@code host}'s plugins ({@code host} may be {@code null}). */
    public static NotifierTypes of(PluginHost host, List<Notifier> builtIns) {
        NotifierTypes t = new NotifierTypes(host == null ? "(no plugins directory)" : host.directory().toString());
        Map<String, List<Provider>> claims = new TreeMap<>();
        for (Notifier n : builtIns) {
            for (String type : n.types()) {
                claims.computeIfAbsent(type, k -> new ArrayList<>()).add(new Provider(type, BUILT_IN, n));
            }
        }
        if (host != null) {
            host.notifierClaims().forEach((type, list) -> list.forEach(c -> claims.computeIfAbsent(type,
                    k -> new ArrayList<>()).add(new Provider(type, c.pluginId(), c.extension()))));
        }
        claims.forEach((type, list) -> {
            if (list.size() == 1) {
                t.providers.put(type, list.getFirst());
            } else {
                t.contested.put(type, list.stream().map(Provider::pluginId).sorted().toList());
            }
        });
        return t;
    }

    /** The extension implementing {@code type}, if exactly one does. */
    public Optional<Provider> provider(String type) {
        return Optional.ofNullable(providers.get(type));
    }

    /** The plugins claiming {@code type} when more than one does; empty otherwise. */
    public List<String> claimants(String type) {
        return contested.getOrDefault(type, List.of());
    }

    /** The types that can run, sorted. */
    public Set<String> types() {
        return Collections.unmodifiableSet(new TreeSet<>(providers.keySet()));
    }

    /** Problems to log at start: one per contested type. */
    public List<String> problems() {
        List<String> out = new ArrayList<>();
        contested.forEach((type, ids) -> out.add("notifier type " + type + " is claimed by more than one plugin ("
                + String.join(", ", ids) + "): none of them runs it; remove all but one from " + where));
        return out;
    }

    /** Where the plugins were looked for, for messages. */
    String where() {
        return where;
    }
}
