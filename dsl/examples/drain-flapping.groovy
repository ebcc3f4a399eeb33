// Drain a real server that flaps: its third failure within five minutes takes it out of new traffic.
policy('drain-flapping') {
    on realServerDown { event ->
        def downs = recentEvents('real_server.down', 5.minutes).findAll { it.realServer == event.realServer }
        if (downs.size() >= 3) {
            service(event.virtualServer).realServer(event.realServer).drain()
            notify("${event.realServer} failed ${downs.size()} times in 5 minutes: drained", 'warning')
        }
    }
}
