// Trackers held by policy: during a deploy (the `deploy` flag is DOWN) chk_nginx is held UP so a
// restarting nginx does not fail the node over; a lost quorum holds it DOWN; both end with clear().
policy('tracker-marks') {
    on trackerChange { event ->
        if (event.tracker == 'deploy') {
            if (event.to == 'DOWN') {
                tracker('chk_nginx').markUp()
            } else {
                tracker('chk_nginx').clear()
            }
        }
    }
    on quorumLost { event ->
        tracker('chk_nginx').markDown("quorum of ${event.virtualServer} lost")
    }
    on quorumGained { event ->
        tracker('chk_nginx').clear()
    }
}
