print("plexus")
