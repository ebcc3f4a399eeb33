// A maintenance flag through a tracker: `track_file maint` goes DOWN while /etc/vigil/maint exists.
// While it is set, VI_1 gives way and chk_nginx is held down; when it is cleared, both return.
policy('maintenance-flag') {
    description 'hand VI_1 over while the maint flag is set'

    on trackerChange { event ->
        if (event.tracker != 'maint') {
            return
        }
        def vi = instance('VI_1')
        if (event.to == 'DOWN') {
            vi.lowerPriority(100)
            if (vi.master) {
                vi.handOver()
            }
            tracker('chk_nginx').markDown('maintenance')
            notify("${event.node} entering maintenance", 'warning')
        } else {
            vi.resetPriority()
            tracker('chk_nginx').clear()
            notify("${event.node} leaving maintenance")
        }
    }
}
