// Once an instance is BACKUP again, drop whatever priority offset this policy gave it.
policy('became-backup') {
    on becameMaster { event ->
        instance(event.instance).raisePriority(20)
    }
    on becameBackup { event ->
        note("${event.instance} is BACKUP at priority ${instance(event.instance).priority}; dropping the offset")
        instance(event.instance).resetPriority()
    }
}
