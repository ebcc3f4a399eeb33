// A timer: once a minute, note the service's health with the time of the run.
policy('every-report') {
    every 1.minute {
        def s = service('10.9.0.50:80')
        note("${now}: ${s.name} ${s.healthyCount()}/${s.realServers.size()} healthy")
    }
}
