// Reading a service: its real servers, their health and weights, its quorum.
policy('read-service') {
    on realServerDown { event ->
        def s = service(event.virtualServer)
        note("${s.name}: ${s.healthyCount()}/${s.realServers.size()} healthy, quorum ${s.quorumUp ? 'up' : 'down'}")
        s.realServers.findAll { !it.healthy }.each { rs ->
            note("down: ${rs.name} (${rs.address} port ${rs.port}), weight ${rs.weight} of ${rs.configuredWeight}")
        }
        def failed = s.realServer(event.realServer)
        if (failed.weight > 0) {
            failed.weight(0)
        }
    }
}
