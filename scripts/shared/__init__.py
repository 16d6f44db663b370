"""What the presenters share: reading the built site as a book, safe writes, the output policy, code colours."""
