// Every 10 seconds, prefer this node (priority +10) while all three real servers are healthy.
// The policy remembers the mode it set, so it acts only when the mode changes.
policy('every-capacity') {
    every 10.seconds {
        String mode = service('10.9.0.50:80').healthyCount() == 3 ? 'full' : 'degraded'
        if (recall('mode', '') != mode) {
            remember('mode', mode)
            if (mode == 'full') {
                instance('VI_1').raisePriority(10)
            } else {
                instance('VI_1').resetPriority()
            }
        }
    }
}
