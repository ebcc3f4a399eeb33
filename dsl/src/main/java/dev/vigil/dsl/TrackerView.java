package dev.vigil.dsl;

/**
 * A tracker as a policy sees it.
 *
 * @param name  its name ({@code vrrp_script} name, interface name, {@code track_file} name, ...)
 * @param kind  {@code script}, {@code interface}, {@code file}, {@code process}, {@code bfd} or {@code policy}
 * @param state {@code UP} or {@code DOWN} (or {@code INIT} before its first result)
 */
public record TrackerView(String name, String kind, String state) {

    public boolean isUp() {
        return "UP".equals(state);
    }
}
