print("mrsh")
