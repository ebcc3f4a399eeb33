package dev.vigil.dsl;

/**
 * A real server of a virtual server as a policy sees it.
 *
 * @param address  its address as written in the configuration ({@code 10.9.0.11}, {@code 2001:db8::11})
 * @param port     its port (0 for fwmark services without one)
 * @param healthy  whether its checkers pass (or it was set up) and it is in the forwarder's table
 * @param weight   its current weight (0 when drained)
 * @param configuredWeight the weight in the configuration
 */
public record RealServerView(String address, int port, boolean healthy, int weight, int configuredWeight) {

    /** {@code address:port}, with brackets around an IPv6 address. */
    public String key() {
        return (address.indexOf(':') >= 0 ? "[" + address + "]" : address) + ":" + port;
    }

    /** Whether {@code query} names this real server: {@code 10.9.0.11:80}, {@code [2001:db8::11]:80} or a bare address. */
    public boolean matches(String query) {
        String q = query.trim();
        return q.equals(key()) || q.equals(address) || q.equals(address + ":" + port);
    }
}
