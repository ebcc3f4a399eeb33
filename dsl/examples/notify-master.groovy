// Tell the operators when this node becomes MASTER (what notify_master "notify.sh master" did).
policy('notify-master') {
    on becameMaster { event ->
        notify("${event.instance} is MASTER on ${event.node} (was ${event.from})")
    }
}
