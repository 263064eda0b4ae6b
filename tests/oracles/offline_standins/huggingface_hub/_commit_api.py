class CommitOperationAdd: pass
