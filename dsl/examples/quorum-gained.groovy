// Lower VI_1 while the service has no quorum, and take the priority back when the quorum returns.
policy('quorum-gained') {
    on quorumLost { event ->
        instance('VI_1').lowerPriority(60)
    }
    on quorumGained { event ->
        instance('VI_1').resetPriority()
        note("${event.virtualServer} has its quorum again; quorumUp=${service(event.virtualServer).quorumUp}")
    }
}
