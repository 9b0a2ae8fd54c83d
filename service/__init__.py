"""The application's use cases, one function each with typed inputs and results: submit a file,
take the inbox, open a cycle, the deadline check, the office's digest, compile the county's
report, deliver the notices. The Prefect tasks and flows wrap them; the command line (and next,
the mailbox and the upload page) call them as equals. Nothing here imports Prefect."""
