"""Model gateway (中控网关): every model call of the city goes through one door that routes,
fails over, meters and limits."""
