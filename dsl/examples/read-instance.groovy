// Reading an instance: its state, effective and configured priority, group.
policy('read-instance') {
    on realServerDown { event ->
        instance('VI_1').lowerPriority(30)
    }
    on instanceChange { event ->
        def vi = instance(event.instance)
        note("${vi.name} in ${vi.group}: ${vi.state}, master=${vi.master}, priority ${vi.priority} (configured ${vi.basePriority})")
    }
}
