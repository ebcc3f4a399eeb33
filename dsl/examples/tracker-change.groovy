// Report any tracker that goes down, with what the world says of it.
policy('tracker-change') {
    on trackerChange { event ->
        def t = tracker(event.tracker)
        if (!t.up) {
            notify("${t.kind} tracker ${t.name} is ${t.state} (affects ${event.field('instances')})", 'warning')
        }
    }
}
