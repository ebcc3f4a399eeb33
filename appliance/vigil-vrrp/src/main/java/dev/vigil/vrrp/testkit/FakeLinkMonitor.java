package dev.vigil.vrrp.testkit;

import dev.vigil.kernel.LinkInfo;
import dev.vigil.kernel.LinkMonitor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/** Links in memory; {@link #set(String, boolean)} changes one and notifies subscribers synchronously. */
public final class FakeLinkMonitor implements LinkMonitor {

    private final Map<String, LinkInfo> links = new LinkedHashMap<>();
    private final List<Consumer<LinkInfo>> listeners = new ArrayList<>();

    /** A monitor with the named interfaces up. */
    public FakeLinkMonitor(String... upInterfaces) {
        int index = 1;
        for (String name : upInterfaces) {
            links.put(name, new LinkInfo(name, index++, true, new byte[6]));
        }
    }

    /** Sets the state of {@code name} (adding it if new) and notifies subscribers. */
    public void set(String name, boolean up) {
        LinkInfo old = links.get(name);
        LinkInfo now = new LinkInfo(name, old != null ? old.index() : links.size() + 1, up, new byte[6]);
        links.put(name, now);
        for (Consumer<LinkInfo> l : List.copyOf(listeners)) {
            l.accept(now);
        }
    }

    @Override
    public List<LinkInfo> links() {
        return List.copyOf(links.values());
    }

    @Override
    public void subscribe(Consumer<LinkInfo> listener) {
        listeners.add(listener);
    }

    @Override
    public void unsubscribe(Consumer<LinkInfo> listener) {
        listeners.remove(listener);
    }

    @Override
    public void close() {
        listeners.clear();
    }
}
