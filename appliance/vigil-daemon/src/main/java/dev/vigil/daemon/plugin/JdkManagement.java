package dev.vigil.daemon.plugin;

import com.sun.management.GarbageCollectionNotificationInfo;
import com.sun.management.GcInfo;
import com.sun.management.ThreadMXBean;

import javax.management.Notification;
import javax.management.openmbean.CompositeData;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.util.Map;
import java.util.Set;

/**
 * What {@link PluginMemory} reads from the JDK's own management extensions (module
 * {@code jdk.management}, package {@code com.sun.management}): each thread's allocation counter
 * and the heap in use after each garbage collection. The only class of the daemon that names
 * {@code com.sun.management}: a runtime built without that module (a jlink image that leaves it
 * out) has none of its classes, so {@link PluginMemory} loads this class only after
 * {@link PluginMemory#jdkManagement()} said yes, and runs without plugin memory limits otherwise.
 */
final class JdkManagement {

    private final ThreadMXBean threads;

    private JdkManagement(ThreadMXBean threads) {
        this.threads = threads;
    }

    /**
     * The allocation counters, switched on if they were off; {@code null} when this JVM does not
     * count each thread's allocation. Only where {@link PluginMemory#jdkManagement()}.
     */
    static JdkManagement open() {
        if (ManagementFactory.getThreadMXBean() instanceof ThreadMXBean t && t.isThreadAllocatedMemorySupported()) {
            if (!t.isThreadAllocatedMemoryEnabled()) {
                t.setThreadAllocatedMemoryEnabled(true);
            }
            return new JdkManagement(t);
        }
        return null;
    }

    /** The bytes the current thread has allocated since it started. */
    long currentThreadAllocatedBytes() {
        return threads.getCurrentThreadAllocatedBytes();
    }

    /** The bytes thread {@code threadId} has allocated since it started, or -1 if it has ended. */
    long threadAllocatedBytes(long threadId) {
        return threads.getThreadAllocatedBytes(threadId);
    }

    /** A finished garbage collection: the collector's name and the bytes left in use in the heap pools. */
    record Collection(String gcName, long heapUsed) {
    }

    /**
     * The collection notification {@code n} reports, with what the pools named {@code heapPools}
     * hold after it; {@code null} for any other notification.
     */
    static Collection collection(Notification n, Set<String> heapPools) {
        if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(n.getType())) {
            return null;
        }
        GarbageCollectionNotificationInfo gc = GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData());
        GcInfo info = gc.getGcInfo();
        long used = 0;
        for (Map.Entry<String, MemoryUsage> e : info.getMemoryUsageAfterGc().entrySet()) {
            if (heapPools.contains(e.getKey())) {
                used += e.getValue().getUsed();
            }
        }
        return new Collection(gc.getGcName(), used);
    }
}
