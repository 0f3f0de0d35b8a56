"""Operations system (运营体系): run statistics and evaluations."""
