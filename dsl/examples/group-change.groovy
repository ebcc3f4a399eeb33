// Follow a sync group: record its changes, and warn when the whole group goes to FAULT.
policy('group-change') {
    on groupChange { event ->
        note("group ${event.group}: ${event.from} -> ${event.to}")
        if (event.to == 'FAULT') {
            notify("sync group ${event.group} is in FAULT on ${event.node}", 'critical')
        }
    }
}
