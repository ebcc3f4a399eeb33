// An instance in FAULT is worth waking someone for.
policy('fault') {
    on fault { event ->
        notify("${event.instance} on ${event.node} is in FAULT: ${event.field('cause') ?: 'unknown cause'}", 'critical')
    }
}
