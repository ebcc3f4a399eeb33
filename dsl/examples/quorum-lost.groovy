// Without its quorum the service is not worth holding the address for: hand VI_1 over at once.
policy('quorum-lost') {
    on quorumLost { event ->
        def vi = instance('VI_1')
        if (vi.master) {
            vi.handOver()
        }
        notify("${event.virtualServer} lost its quorum (${event.field('healthy')} healthy, ${event.field('quorum')} needed)", 'critical')
    }
}
