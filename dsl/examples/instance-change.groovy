// Record every state change of every instance in the audit trail.
policy('instance-change') {
    on instanceChange { event ->
        note("${event.instance}: ${event.from} -> ${event.to} (${event.field('cause') ?: 'no cause given'})")
    }
}
