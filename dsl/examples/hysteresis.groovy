// Memory for hysteresis: drain a real server at its third failure, and give it its weight back only
// after it has stayed up for two minutes (checked every 30 seconds).
policy('hysteresis') {
    on realServerDown { event ->
        int downs = recall("downs ${event.realServer}", 0) + 1
        remember("downs ${event.realServer}", downs)
        forget("up since ${event.realServer}")
        if (downs == 3) {
            service(event.virtualServer).realServer(event.realServer).drain()
        }
    }
    on realServerUp { event ->
        remember("up since ${event.realServer}", event.time.toEpochMilli())
    }
    every 30.seconds {
        service('10.9.0.50:80').realServers.each { rs ->
            long since = recall("up since ${rs.name}", 0L)
            if (recall("downs ${rs.name}", 0) >= 3 && since > 0 && now.toEpochMilli() - since >= 120000) {
                rs.restoreWeight()
                forget("downs ${rs.name}")
                forget("up since ${rs.name}")
            }
        }
    }
}
