"""Use cases: work that spans several steps, between the servicers and the stores.

A servicer converts a request, calls one use case (or one store method), and converts
the answer back. A use case coordinates what one call does when that is more than one
step: the metadata store and the object store together (multipart uploads, copies of
an Object, allocation with upload URLs), undoing its own steps when a later one fails;
segment registration, which looks in the backends outside the write transaction and
overlaps one batch's write with the next batch's checks.

Use cases take and return domain values (and store records); they never see gRPC,
protobuf messages or ``convert``. Each store method they call is one transaction.

Two seams for the issues that follow:

- Who is calling: a write that records an actor takes a ``Caller`` (see
  ``usecases.caller``) from the servicer, instead of reading the principal from
  ambient state.
- Events: a change's outbox event is written in the same transaction as the change.
  The use case decides which event a change makes and hands it to the store method
  that opens that transaction; each method that changes what clients can watch says
  in its docstring where its event goes.
"""
