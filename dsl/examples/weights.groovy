// Weights: when a real server fails, give the healthy ones more weight; when all are back, restore them.
policy('weights') {
    on realServerDown { event ->
        service(event.virtualServer).realServers.findAll { it.healthy }.each { it.weight(150) }
    }
    on realServerUp { event ->
        def s = service(event.virtualServer)
        if (s.healthyCount() == s.realServers.size()) {
            s.realServers.each { it.restoreWeight() }
        }
    }
}
