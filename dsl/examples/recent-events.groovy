// Reading recent events: when a real server comes back, say how long it was down.
policy('recent-events') {
    on realServerUp { event ->
        def downs = recentEvents('real_server.down').findAll { it.realServer == event.realServer }
        if (!downs.isEmpty()) {
            long seconds = java.time.Duration.between(downs.last().time, event.time).seconds
            note("${event.realServer} back after ${seconds} s; ${recentEvents().size()} recent events")
        }
    }
}
